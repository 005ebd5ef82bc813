// Package rbee is the acceptance suite of rbee-go: the Gherkin features
// (features_test.go) and the pools × models × backends matrix
// (matrix_test.go). The libraries live in hive/, keeper/ and worker/.
package rbee
