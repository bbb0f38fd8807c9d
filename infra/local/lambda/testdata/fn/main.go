// Command fn is the bootstrap the lambda package tests run: its handler does what
// the payload's op says, and FN_INIT makes its init fail.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Op    string `json:"op"`
	Msg   string `json:"msg"`
	Ms    int    `json:"ms"`
	Code  int    `json:"code"`
	Size  int    `json:"size"`
	File  string `json:"file"`  // "count": one line (the request id) is appended per invocation
	Fails int    `json:"fails"` // "count": the first Fails invocations fail
}

type response struct {
	Msg        string            `json:"msg,omitempty"`
	Pid        int               `json:"pid"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMs int64             `json:"deadlineMs"` // remaining at the start of the invocation
	Env        map[string]string `json:"env,omitempty"`
	Status     int               `json:"status,omitempty"`
	Body       string            `json:"body,omitempty"`
	Child      int               `json:"child,omitempty"`
	Big        string            `json:"big,omitempty"`
}

func handle(ctx context.Context, req request) (response, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	resp := response{Msg: req.Msg, Pid: os.Getpid(), RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn, DeadlineMs: time.Until(deadline).Milliseconds()}
	switch req.Op {
	case "echo":
	case "env":
		resp.Env = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			resp.Env[k] = v
		}
		resp.Env["cwd"], _ = os.Getwd()
	case "error":
		return resp, errors.New(req.Msg)
	case "panic":
		panic(req.Msg)
	case "sleep":
		time.Sleep(time.Duration(req.Ms) * time.Millisecond)
	case "exit":
		os.Exit(req.Code)
	case "print":
		fmt.Println(req.Msg)
		fmt.Fprint(os.Stderr, "err:", req.Msg, "\n")
	case "big":
		resp.Big = strings.Repeat("x", req.Size)
	case "count":
		f, err := os.OpenFile(req.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return resp, err
		}
		_, err = fmt.Fprintln(f, lc.AwsRequestID)
		f.Close()
		if err != nil {
			return resp, err
		}
		b, _ := os.ReadFile(req.File)
		if n := bytes.Count(b, []byte("\n")); n <= req.Fails {
			return resp, fmt.Errorf("attempt %d fails", n)
		}
	case "badpost": // report what the Runtime API says to a result for an unknown request id
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/no-such-id/response"
		r, err := http.Post(url, "application/json", strings.NewReader(`{}`))
		if err != nil {
			return resp, err
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		resp.Status, resp.Body = r.StatusCode, string(b)
	case "spawn": // leave a child behind in the process group
		cmd := exec.Command("sleep", "60")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // holding the output pipes open
		if err := cmd.Start(); err != nil {
			return resp, err
		}
		resp.Child = cmd.Process.Pid
	default:
		return resp, fmt.Errorf("unknown op %q", req.Op)
	}
	return resp, nil
}

func main() {
	switch os.Getenv("FN_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init: missing configuration")
		os.Exit(3)
	case "error":
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"errorMessage":"missing TABLE_NAME","errorType":"InitFailure"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
		time.Sleep(time.Hour) // Lambda, not the runtime, ends the sandbox
	case "hang":
		time.Sleep(time.Hour)
	}
	lambda.Start(handle)
}
