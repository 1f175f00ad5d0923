#!/bin/sh
# make demo: the Get Started walkthrough under a scratch prefix.
echo "demo: not yet available" >&2
