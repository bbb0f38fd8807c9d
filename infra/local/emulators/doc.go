// Package emulators runs the AWS service emulators the local stack needs as child processes.
//
// DynamoDB is AWS's own DynamoDB Local (Java), SQS is fauxqs (Node). EnsureInstalled
// fetches both; StartDynamoDB and StartSQS run them in their own process groups,
// stopped by Stop or when the context they were started with is done; CreateTables
// and CreateQueues provision the template's resources in them.
package emulators
