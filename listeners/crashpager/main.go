package main

import (
	"fmt"
	"os"
)

// main is replaced by the real entry point once the shared config and the
// alert pipeline it is built on have landed.
func main() {
	fmt.Fprintln(os.Stderr, "crashpager: not wired to the alert pipeline yet")
	os.Exit(1)
}
