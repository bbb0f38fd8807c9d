package emulators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventhub/eventhub/infra/local/template"
)

// fauxqs is pinned (exactly) in infra/local/package.json.
const (
	fauxqsPackage  = "fauxqs"
	minNodeVersion = 20
)

// SQSConfig configures StartSQS.
//
// fauxqs keeps everything in memory: queues and messages do not survive a restart
// (its README: "No persistence"), so there is no data directory. CreateQueues makes
// the template's queues again after each start.
type SQSConfig struct {
	RepoRoot     string        // where EnsureInstalled ran npm ci (infra/local/node_modules)
	Port         int           // 0 picks a free port
	Region       string        // fallback region of queue URLs and ARNs for unsigned requests; "" means us-east-1
	Stdout       io.Writer     // the emulator's output; nil discards it
	Stderr       io.Writer     // nil discards it
	Logger       *slog.Logger  // nil discards
	RequestLog   bool          // have fauxqs log every request (JSON lines on Stdout)
	StartTimeout time.Duration // 0 means 30 s
}

// SQS is a running fauxqs.
type SQS struct {
	Endpoint    string        // http://127.0.0.1:<port>
	Port        int           //
	StartupTime time.Duration // from exec to the first answered ListQueues
	proc        *process
}

// StartSQS starts fauxqs on Node and waits until it answers ListQueues. It runs until
// Stop or until ctx is done. EnsureInstalled must have run.
//
// Queue URLs fauxqs hands out look like http://sqs.<region>.localhost:<port>/000000000000/<name>;
// the SDK sends every request to the client's endpoint, so those hosts need not resolve.
// The region of a queue's URL and ARN is the signing region of the client that made it.
func StartSQS(ctx context.Context, cfg SQSConfig) (*SQS, error) {
	logger := orDefault(cfg.Logger)
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("start fauxqs: node not found in PATH: fauxqs needs Node.js %d or later: %w", minNodeVersion, err)
	}
	if err := checkNodeVersion(ctx, node); err != nil {
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	cli, err := fauxqsCLI(cfg.RepoRoot)
	if err != nil {
		return nil, fmt.Errorf("start fauxqs: not installed (EnsureInstalled runs npm ci): %w", err)
	}
	port, err := choosePort(cfg.Port)
	if err != nil {
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	cmd := exec.Command(node, cli)
	cmd.Dir = filepath.Dir(cli)
	cmd.Env = append(os.Environ(),
		"FAUXQS_PORT="+strconv.Itoa(port),
		"FAUXQS_DEFAULT_REGION="+region,
		"FAUXQS_LOGGER="+strconv.FormatBool(cfg.RequestLog),
	)
	start := time.Now()
	proc, err := startProcess(ctx, "fauxqs", cmd, cfg.Stdout, cfg.Stderr, logger)
	if err != nil {
		return nil, err
	}
	s := &SQS{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Port: port, proc: proc}
	probe := NewSQSClient(s.Endpoint, region, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	err = proc.waitReady(ctx, timeout, func(ctx context.Context) error {
		_, err := probe.ListQueues(ctx, &sqs.ListQueuesInput{})
		return err
	})
	if err != nil {
		_ = proc.stop() // the startup error says what went wrong
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	s.StartupTime = time.Since(start)
	logger.InfoContext(ctx, "fauxqs ready", "endpoint", s.Endpoint, "took", s.StartupTime.Round(time.Millisecond))
	return s, nil
}

// Stop stops fauxqs, losing its queues and messages. It is safe to call more than once.
func (s *SQS) Stop() error { return s.proc.stop() }

// Done is closed when the process has exited.
func (s *SQS) Done() <-chan struct{} { return s.proc.done }

// fauxqsCLI returns the script fauxqs's package.json declares as its bin.
func fauxqsCLI(repoRoot string) (string, error) {
	dir := filepath.Join(repoRoot, npmPrefix, "node_modules", fauxqsPackage)
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var pkg struct {
		Bin map[string]string `json:"bin"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", fmt.Errorf("%s/package.json: %w", dir, err)
	}
	bin, ok := pkg.Bin[fauxqsPackage]
	if !ok {
		return "", fmt.Errorf("%s/package.json declares no %s bin", dir, fauxqsPackage)
	}
	cli := filepath.Join(dir, filepath.FromSlash(bin))
	if _, err := os.Stat(cli); err != nil {
		return "", err
	}
	return cli, nil
}

func checkNodeVersion(ctx context.Context, node string) error {
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return fmt.Errorf("node --version: %w", err)
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < minNodeVersion {
		return fmt.Errorf("fauxqs needs Node.js %d or later; %s is %s", minNodeVersion, node, v)
	}
	return nil
}

// NewSQSClient returns an SQS client for an emulator: dummy static credentials and
// few retries so that a stopped emulator fails fast. optFns adjust the options further.
func NewSQSClient(endpoint, region string, optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(localAccessKey, localSecretKey, ""),
		RetryMaxAttempts: 3,
	}, optFns...)
}

// QueueInfo names a queue the local stack created.
type QueueInfo struct {
	URL  string // what Ref gives
	ARN  string // GetAtt Arn
	Name string // GetAtt QueueName
}

// CreateQueues creates the template's queues under their physical names (names maps
// logical id to name) and returns them by logical id. Dead-letter queues are created
// first, so that a RedrivePolicy's !GetAtt DLQ.Arn resolves to the ARN just created.
// It is idempotent: an existing queue is kept with its messages and its attributes
// are set to the template's.
func CreateQueues(ctx context.Context, client *sqs.Client, queues []template.Queue, names map[string]string) (map[string]QueueInfo, error) {
	created := make(map[string]QueueInfo, len(queues))
	pending := make([]template.Queue, 0, len(queues))
	for _, q := range queues {
		if names[q.LogicalID] == "" {
			return nil, fmt.Errorf("create queue %s: no physical name given", q.LogicalID)
		}
		pending = append(pending, q)
	}
	inSet := func(id string) bool {
		for _, q := range queues {
			if q.LogicalID == id {
				return true
			}
		}
		return false
	}
	for len(pending) > 0 {
		var next []template.Queue
		for _, q := range pending {
			if dep := redriveTarget(q); dep != "" && inSet(dep) {
				if _, ok := created[dep]; !ok {
					next = append(next, q) // its dead-letter queue first
					continue
				}
			}
			info, err := createQueue(ctx, client, q, names[q.LogicalID], queueResolver(created))
			if err != nil {
				return nil, fmt.Errorf("create queue %s (%s): %w", q.LogicalID, names[q.LogicalID], err)
			}
			created[q.LogicalID] = info
		}
		if len(next) == len(pending) {
			return nil, fmt.Errorf("create queues: redrive policies form a cycle among %s", logicalIDs(next))
		}
		pending = next
	}
	return created, nil
}

func logicalIDs(qs []template.Queue) string {
	ids := make([]string, len(qs))
	for i, q := range qs {
		ids[i] = q.LogicalID
	}
	return strings.Join(ids, ", ")
}

// redriveTarget is the logical id of the queue's dead-letter queue, if the template
// names it with an intrinsic.
func redriveTarget(q template.Queue) string {
	if q.RedrivePolicy == nil {
		return ""
	}
	refs := q.RedrivePolicy.DeadLetterTargetArn.References()
	if len(refs) != 1 {
		return ""
	}
	return refs[0]
}

// queueResolver resolves Ref and GetAtt of the queues created so far.
type queueResolver map[string]QueueInfo

func (r queueResolver) Ref(id string) (string, error) {
	if q, ok := r[id]; ok {
		return q.URL, nil
	}
	return "", fmt.Errorf("%s is not a queue created by CreateQueues", id)
}

func (r queueResolver) GetAtt(id, attr string) (string, error) {
	q, ok := r[id]
	if !ok {
		return "", fmt.Errorf("%s is not a queue created by CreateQueues", id)
	}
	switch attr {
	case "Arn":
		return q.ARN, nil
	case "QueueName":
		return q.Name, nil
	case "QueueUrl":
		return q.URL, nil
	}
	return "", fmt.Errorf("queue %s has no attribute %s", id, attr)
}

func createQueue(ctx context.Context, client *sqs.Client, q template.Queue, name string, r template.Resolver) (QueueInfo, error) {
	attrs := map[string]string{
		string(types.QueueAttributeNameVisibilityTimeout):             strconv.Itoa(q.VisibilityTimeout),
		string(types.QueueAttributeNameMessageRetentionPeriod):        strconv.Itoa(q.MessageRetentionPeriod),
		string(types.QueueAttributeNameDelaySeconds):                  strconv.Itoa(q.DelaySeconds),
		string(types.QueueAttributeNameReceiveMessageWaitTimeSeconds): strconv.Itoa(q.ReceiveMessageWaitTimeSeconds),
	}
	if q.MaximumMessageSize > 0 {
		attrs[string(types.QueueAttributeNameMaximumMessageSize)] = strconv.Itoa(q.MaximumMessageSize)
	}
	if q.FifoQueue {
		attrs[string(types.QueueAttributeNameContentBasedDeduplication)] = strconv.FormatBool(q.ContentBasedDeduplication)
	}
	if rp := q.RedrivePolicy; rp != nil {
		arn, err := rp.DeadLetterTargetArn.Resolve(r)
		if err != nil {
			return QueueInfo{}, fmt.Errorf("redrive policy: %w", err)
		}
		policy, err := json.Marshal(struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}{arn, rp.MaxReceiveCount})
		if err != nil {
			return QueueInfo{}, err
		}
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
	}

	var url string
	got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *types.QueueDoesNotExist
	switch {
	case errors.As(err, &missing):
		create := attrs
		if q.FifoQueue {
			create = map[string]string{string(types.QueueAttributeNameFifoQueue): "true"}
			for k, v := range attrs {
				create[k] = v
			}
		}
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: create})
		if err != nil {
			return QueueInfo{}, err
		}
		url = aws.ToString(out.QueueUrl)
	case err != nil:
		return QueueInfo{}, err
	default:
		url = aws.ToString(got.QueueUrl)
		if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); err != nil {
			return QueueInfo{}, fmt.Errorf("update attributes: %w", err)
		}
	}
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return QueueInfo{}, err
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return QueueInfo{}, fmt.Errorf("GetQueueAttributes returned no QueueArn")
	}
	return QueueInfo{URL: url, ARN: arn, Name: name}, nil
}
