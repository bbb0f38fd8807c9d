// Package tests holds eventhub's whole-system tests: checks of template.yaml and
// end-to-end runs against the local stack, with real emulators and the functions' real
// bootstraps.
package tests
