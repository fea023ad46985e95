package main

import "context"

func runDetect(ctx context.Context, c *cli, args []string) int { return exitUsage }
