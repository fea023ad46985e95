package main

import "context"

func runRedact(ctx context.Context, c *cli, args []string) int { return exitUsage }
