package main

import (
	"context"

	"github.com/rbee-go/rbee/keeper"
)

func (a *app) git(sub string, args []string) int {
	var hosts []string
	c := gitSpec(sub)
	if ok, code := a.parse(a.flags(c, &hosts), c, args, 0); !ok {
		return code
	}
	return a.fanOut(hosts, false, func(ctx context.Context, k *keeper.Keeper, host string, s keeper.Streams) keeper.Result {
		return k.Git(ctx, host, sub, s)
	})
}
