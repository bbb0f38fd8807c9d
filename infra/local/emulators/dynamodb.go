package emulators

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventhub/eventhub/infra/local/template"
)

// Dummy credentials for the emulators. DynamoDB Local accepts only letters and digits
// in the access key; with -sharedDb it ignores them otherwise.
const (
	localAccessKey = "local"
	localSecretKey = "local"
)

// defaultJavaOptions make the JVM start faster and use fewer threads, which matters
// more to a development emulator than peak throughput.
var defaultJavaOptions = []string{"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}

// DynamoConfig configures StartDynamoDB.
type DynamoConfig struct {
	RepoRoot     string        // where EnsureInstalled put DynamoDB Local (.eventhub/cache)
	DataDir      string        // database directory, created if missing; "" keeps data in memory
	Port         int           // 0 picks a free port
	Stdout       io.Writer     // the emulator's output; nil discards it
	Stderr       io.Writer     // nil discards it
	Logger       *slog.Logger  // nil discards
	StartTimeout time.Duration // 0 means 60 s
	JavaOptions  []string      // nil means -XX:+UseSerialGC -XX:TieredStopAtLevel=1
}

// DynamoDB is a running DynamoDB Local.
type DynamoDB struct {
	Endpoint    string        // http://127.0.0.1:<port>
	Port        int           //
	StartupTime time.Duration // from exec to the first answered ListTables
	proc        *process
}

// StartDynamoDB starts DynamoDB Local (-sharedDb, so every access key and region sees
// the same tables) and waits until it answers ListTables. It runs until Stop or until
// ctx is done. EnsureInstalled must have run.
func StartDynamoDB(ctx context.Context, cfg DynamoConfig) (*DynamoDB, error) {
	logger := orDefault(cfg.Logger)
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: java not found in PATH: DynamoDB Local needs Java 17 (apt-get install -y openjdk-17-jre-headless): %w", err)
	}
	dir := dynamoDir(cfg.RepoRoot)
	if err := checkDynamoFiles(dir); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: not installed (EnsureInstalled installs it): %w", err)
	}
	port, err := choosePort(cfg.Port)
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	args := cfg.JavaOptions
	if args == nil {
		args = defaultJavaOptions
	}
	args = append(args[:len(args):len(args)],
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))
	if cfg.DataDir == "" {
		args = append(args, "-inMemory")
	} else {
		data, err := filepath.Abs(cfg.DataDir)
		if err == nil {
			err = os.MkdirAll(data, 0o755)
		}
		if err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: data directory: %w", err)
		}
		args = append(args, "-dbPath", data)
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	start := time.Now()
	proc, err := startProcess(ctx, "DynamoDB Local", cmd, cfg.Stdout, cfg.Stderr, logger)
	if err != nil {
		return nil, err
	}
	d := &DynamoDB{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Port: port, proc: proc}
	probe := NewDynamoClient(d.Endpoint, "us-east-1", func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	err = proc.waitReady(ctx, timeout, func(ctx context.Context) error {
		_, err := probe.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		return err
	})
	if err != nil {
		_ = proc.stop() // the startup error says what went wrong
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	d.StartupTime = time.Since(start)
	logger.InfoContext(ctx, "DynamoDB Local ready", "endpoint", d.Endpoint, "dataDir", cfg.DataDir,
		"took", d.StartupTime.Round(time.Millisecond))
	return d, nil
}

// Stop stops DynamoDB Local. It is safe to call more than once.
func (d *DynamoDB) Stop() error { return d.proc.stop() }

// Done is closed when the process has exited.
func (d *DynamoDB) Done() <-chan struct{} { return d.proc.done }

// NewDynamoClient returns a DynamoDB client for an emulator: dummy static credentials,
// no response CRC check (DynamoDB Local leaves the CRC header off its error responses,
// which the SDK would otherwise reject), and few retries so that a stopped emulator
// fails fast. optFns adjust the options further.
func NewDynamoClient(endpoint, region string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:                          region,
		BaseEndpoint:                    aws.String(endpoint),
		Credentials:                     credentials.NewStaticCredentialsProvider(localAccessKey, localSecretKey, ""),
		DisableValidateResponseChecksum: true,
		RetryMaxAttempts:                3,
		AccountIDEndpointMode:           aws.AccountIDEndpointModeDisabled,
	}, optFns...)
}

// CreateTables creates the template's tables under their physical names (names maps
// logical id to name) and enables time to live where the template asks for it. It is
// idempotent: an existing table is kept with its data; global secondary indexes the
// template added since are created; other differences are left alone.
func CreateTables(ctx context.Context, client *dynamodb.Client, tables []template.Table, names map[string]string) error {
	for _, t := range tables {
		name, ok := names[t.LogicalID]
		if !ok || name == "" {
			return fmt.Errorf("create table %s: no physical name given", t.LogicalID)
		}
		if err := createTable(ctx, client, t, name); err != nil {
			return fmt.Errorf("create table %s (%s): %w", t.LogicalID, name, err)
		}
	}
	return nil
}

func createTable(ctx context.Context, client *dynamodb.Client, t template.Table, name string) error {
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		if _, err := client.CreateTable(ctx, t.CreateTableInput(name)); err != nil {
			return err
		}
		w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
		})
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := addMissingIndexes(ctx, client, t, name, desc.Table); err != nil {
			return err
		}
	}
	if t.TimeToLive == nil || !t.TimeToLive.Enabled {
		return nil
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe time to live: %w", err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == types.TimeToLiveStatusEnabled &&
		aws.ToString(d.AttributeName) == t.TimeToLive.AttributeName {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(t.TimeToLive.AttributeName),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable time to live on %s: %w", t.TimeToLive.AttributeName, err)
	}
	return nil
}

// addMissingIndexes creates, one at a time as DynamoDB requires, the global
// secondary indexes of t that the existing table lacks.
func addMissingIndexes(ctx context.Context, client *dynamodb.Client, t template.Table, name string, table *types.TableDescription) error {
	have := map[string]types.GlobalSecondaryIndexDescription{}
	for _, g := range table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = g
	}
	for _, g := range t.GlobalSecondaryIndexes {
		want := g.GlobalSecondaryIndex()
		if old, ok := have[g.IndexName]; ok {
			if sameIndex(old, want) {
				continue
			}
			// A table kept from an older template: the index is replaced, as
			// CloudFormation replaces an index whose keys or projection change.
			if err := dropIndex(ctx, client, name, g.IndexName); err != nil {
				return err
			}
		}
		in := &dynamodb.UpdateTableInput{
			TableName: aws.String(name),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{
				Create: &types.CreateGlobalSecondaryIndexAction{
					IndexName:             aws.String(g.IndexName),
					KeySchema:             want.KeySchema,
					Projection:            want.Projection,
					ProvisionedThroughput: want.ProvisionedThroughput,
				},
			}},
		}
		for _, a := range t.AttributeDefinitions {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
				AttributeName: aws.String(a.AttributeName),
				AttributeType: types.ScalarAttributeType(a.AttributeType),
			})
		}
		if _, err := client.UpdateTable(ctx, in); err != nil {
			return fmt.Errorf("add index %s: %w", g.IndexName, err)
		}
		// One index may change at a time: the next waits until this one is built.
		if err := settle(ctx, client, name, ""); err != nil {
			return fmt.Errorf("add index %s: %w", g.IndexName, err)
		}
	}
	return nil
}

// sameIndex reports whether an existing index has the keys and projection wanted.
func sameIndex(have types.GlobalSecondaryIndexDescription, want types.GlobalSecondaryIndex) bool {
	if len(have.KeySchema) != len(want.KeySchema) {
		return false
	}
	for i, k := range have.KeySchema {
		if aws.ToString(k.AttributeName) != aws.ToString(want.KeySchema[i].AttributeName) || k.KeyType != want.KeySchema[i].KeyType {
			return false
		}
	}
	var hp, wp types.Projection
	if have.Projection != nil {
		hp = *have.Projection
	}
	if want.Projection != nil {
		wp = *want.Projection
	}
	if hp.ProjectionType != wp.ProjectionType {
		return false
	}
	a, b := slices.Clone(hp.NonKeyAttributes), slices.Clone(wp.NonKeyAttributes)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// dropIndex deletes an index and waits until it is gone.
func dropIndex(ctx context.Context, client *dynamodb.Client, table, index string) error {
	_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:                   aws.String(table),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String(index)}}},
	})
	if err != nil {
		return fmt.Errorf("replace index %s: delete it: %w", index, err)
	}
	if err := settle(ctx, client, table, index); err != nil {
		return fmt.Errorf("replace index %s: %w", index, err)
	}
	return nil
}

// settle waits until every index of the table is active and the one named gone (none
// when gone is empty).
func settle(ctx context.Context, client *dynamodb.Client, table, gone string) error {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return err
		}
		busy := desc.Table.TableStatus != types.TableStatusActive
		for _, g := range desc.Table.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == gone || g.IndexStatus != types.IndexStatusActive {
				busy = true
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("indexes still changing after a minute")
}
