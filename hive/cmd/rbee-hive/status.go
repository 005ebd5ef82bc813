package main

import "context"

func (a *app) status(args []string) int {
	c := command{name: "status", args: "[--json]",
		summary: "Show this pool: host, OS/arch, CPUs, RAM, free disk of the home, backends, models, workers.",
		example: "rbee-hive status\nrbee-hive status --json"}
	fs := a.flags(c)
	if ok, code := a.parse(fs, c, args, 0); !ok {
		return code
	}
	st, err := a.hive().Status(context.Background())
	if err != nil {
		return a.fail(err)
	}
	if a.json {
		return a.printJSON(st)
	}
	if err := a.style().WriteStatus(a.stdout, st); err != nil {
		return a.fail(err)
	}
	return 0
}
