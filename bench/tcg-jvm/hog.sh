#!/bin/sh
# one busy host thread, like a loaded Jenkins controller; stops by itself when /work/QUIET appears
while [ ! -e /work/QUIET ]; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done
