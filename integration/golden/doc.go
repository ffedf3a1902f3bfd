// Package golden holds binary-level golden protocol transcripts of the
// listeners: each test builds a real listener binary (as `make build` does),
// runs it on a config and a state store in a temporary directory, feeds it a
// recorded stdin (the envelopes supervisord would send) and compares its
// stdout, every byte of the protocol, with testdata/<name>.stdout. Its
// stderr is checked for the expected JSON log lines.
//
// The transcripts survive refactors of the listeners' code: they pin what
// supervisord sees, not how the binary is built inside.
//
// Run `go test ./integration/golden -update` to rewrite the .stdin and
// .stdout files after an intended change, and review the diff.
package golden
