package main

// goal is a figure with a target, and what it is measured against in the
// same run. The goals are those the issues set for each benchmark (a
// figure without one is listed among the results, not here).
type goal struct {
	What   string // the figure, for people
	Pkg    string // the package path's tail, e.g. "integration/haltguard"
	Bench  string // the benchmark's full name without the -N suffix
	Metric string // its unit as reported, e.g. "median-ms"
	Op     string // "<", "<=", ">" or ">="
	Target float64
	// Versus are the comparisons measured in the same run: another
	// benchmark's metric (Bench empty: the same benchmark).
	Versus []ref
}

// ref names one metric of one benchmark.
type ref struct {
	Label  string
	Pkg    string // empty: the goal's
	Bench  string // empty: the goal's
	Metric string
}

var goals = []goal{
	{What: "halt: risk manager's death to 20 targets stopped (median)", Pkg: "integration/haltguard",
		Bench: "BenchmarkHalt/haltguard=EXITED", Metric: "median-ms", Op: "<=", Target: 60,
		Versus: []ref{
			{Label: "bare stopProcessGroup (the floor)", Bench: "BenchmarkHalt/floor=stopProcessGroup", Metric: "median-ms"},
			{Label: "Python childutils listener halting on FATAL", Bench: "BenchmarkHalt/python=FATAL", Metric: "median-ms"},
		}},
	{What: "halt (p99)", Pkg: "integration/haltguard", Bench: "BenchmarkHalt/haltguard=EXITED", Metric: "p99-ms", Op: "<=", Target: 100,
		Versus: []ref{{Label: "Python childutils listener halting on FATAL", Bench: "BenchmarkHalt/python=FATAL", Metric: "p99-ms"}}},
	{What: "crashpager: event to ack with the durable commit (p99)", Pkg: "integration/crashpager",
		Bench: "BenchmarkEventToAck/supervisord", Metric: "p99-ms", Op: "<", Target: 5,
		Versus: []ref{{Label: "without supervisord (no log tail read)", Bench: "BenchmarkEventToAck/no-supervisord", Metric: "p99-ms"}}},
	{What: "crashpager: sustained alerting events", Pkg: "integration/crashpager",
		Bench: "BenchmarkEventToAck/supervisord", Metric: "events/s", Op: ">=", Target: 1000},
	{What: "crashpager: event to the sink's HTTP request (p99)", Pkg: "integration/crashpager",
		Bench: "BenchmarkDeliveryLatency", Metric: "p99-ms", Op: "<", Target: 1000},
	{What: "crashpager: idle RSS", Pkg: "integration/crashpager", Bench: "BenchmarkIdleRSS", Metric: "RSS-MB", Op: "<", Target: 15},
	{What: "eventlog: throughput as a share of the C floor", Pkg: "listeners/eventlog", Bench: "BenchmarkVersusC", Metric: "%-of-C", Op: ">=", Target: 95,
		Versus: []ref{
			{Label: "eventlog", Metric: "eventlog-events/s"},
			{Label: "C floor", Metric: "c-events/s"},
			{Label: "Python childutils", Bench: "BenchmarkThroughput/python-childutils", Metric: "events/s"},
		}},
	{What: "eventlog: idle RSS", Pkg: "listeners/eventlog", Bench: "BenchmarkStartup/eventlog-quiet", Metric: "idle-RSS-kB", Op: "<", Target: 10240,
		Versus: []ref{
			{Label: "C floor", Bench: "BenchmarkStartup/c", Metric: "idle-RSS-kB"},
			{Label: "Python childutils", Bench: "BenchmarkStartup/python-childutils", Metric: "idle-RSS-kB"},
		}},
	{What: "healthprobe: a round of 1,000 targets answering in 200 ms", Pkg: "integration/healthprobe", Bench: "BenchmarkRound",
		Metric: "round-ms", Op: "<", Target: 1000,
		Versus: []ref{{Label: "httpok-like listener, s per 1,000 URLs (one per process)", Metric: "httpok-like-s/1000-URLs"}}},
	{What: "healthprobe: RSS", Pkg: "integration/healthprobe", Bench: "BenchmarkRound", Metric: "RSS-MB", Op: "<", Target: 30},
	{What: "healthprobe: event to ack during rounds (p99)", Pkg: "integration/healthprobe", Bench: "BenchmarkRound", Metric: "ack-p99-ms", Op: "<", Target: 5},
	{What: "memguard: CPU of a round over 200 process trees", Pkg: "integration/memguard", Bench: "BenchmarkRound",
		Metric: "round-cpu-ms", Op: "<", Target: 20,
		Versus: []ref{
			{Label: "memmon-like ps round, CPU ms", Metric: "memmon-like-cpu-ms/round"},
			{Label: "memmon-like / memguard CPU", Metric: "memmon-like/memguard-cpu"},
		}},
	{What: "memguard: RSS", Pkg: "integration/memguard", Bench: "BenchmarkRound", Metric: "RSS-MB", Op: "<", Target: 15},
}
