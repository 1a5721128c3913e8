#!/usr/bin/env bash
# Gradescope image setup: the ringspec binary needs libyaml at run time.
set -eu
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libyaml-0-2
chmod +x /autograder/source/ringspec /autograder/source/run_autograder
