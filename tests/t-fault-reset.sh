#!/bin/bash
# t-fault-reset: t-fault-drop's scenarios with the connection reset (RST)
# instead of closed.
FAULT_DROP=reset exec bash "$(dirname "$0")/t-fault-drop.sh"
