// Command hello is the baseline of make bench's cold start: the smallest aws-lambda-go
// function, built with the same flags as eventhub's bootstraps.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
