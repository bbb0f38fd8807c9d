package store_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventhub/eventhub/infra/local/emulators"
	"github.com/eventhub/eventhub/infra/local/template"
	"github.com/eventhub/eventhub/shared/store"
)

// The integration tests of this package run against one DynamoDB Local, in memory,
// started by TestMain; each test gets tables of its own, made from template.yaml.
var (
	admin  *dynamodb.Client // the emulator's client, to create tables
	db     *dynamodb.Client // the store's, made as the functions make theirs
	tables []template.Table
	nextID atomic.Int64
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if err := emulators.EnsureInstalled(ctx, root, log); err != nil {
		fmt.Fprintln(os.Stderr, "install DynamoDB Local:", err)
		return 1
	}
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tables = tpl.Tables
	dyn, err := emulators.StartDynamoDB(context.Background(), emulators.DynamoConfig{RepoRoot: root, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer dyn.Stop()
	admin = emulators.NewDynamoClient(dyn.Endpoint, "us-east-1")
	db = functionDB(dyn.Endpoint)
	return m.Run()
}

// functionDB is a DynamoDB client made as boot.AWS and the functions make theirs, with
// the SDK's defaults (response checksums validated among them), so that the store is
// tested against DynamoDB Local through the client it runs with.
func functionDB(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// clock is a settable time source.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}
func (c *clock) set(t time.Time)     { c.t.Store(&t) }
func (c *clock) now() time.Time      { return *c.t.Load() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// t0 is the tests' present.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// newStore returns a store on a new, empty table, with 30 days of retention and the
// clock.
func newStore(t *testing.T, c *clock) *store.Store {
	t.Helper()
	if db == nil {
		t.Skip("integration: needs DynamoDB Local (not started with -short)")
	}
	names := map[string]string{}
	for _, tb := range tables {
		names[tb.LogicalID] = fmt.Sprintf("store-test-%d-%s", nextID.Add(1), tb.LogicalID)
	}
	if err := emulators.CreateTables(context.Background(), admin, tables, names); err != nil {
		t.Fatal(err)
	}
	return store.New(db, names["EventsTable"], 30*24*time.Hour).WithClock(c.now)
}
