#!/usr/bin/env python3
# Runs a command and, when it has exited but before it is reaped, appends its /proc/<pid>/io read
# figures (rchar: bytes read through syscalls; read_bytes: from the block layer) to the file in
# $TIDEMARK_IO_LOG, or to /tmp/tidemark-host-io.log. The replication benchmark puts it on the "host"
# as rsync's --rsync-path, to measure what a pull reads there.
import os, sys
log = os.environ.get('TIDEMARK_IO_LOG', '/tmp/tidemark-host-io.log')
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
with open(f'/proc/{pid}/io') as io:
    figures = dict(line.strip().split(': ') for line in io)
with open(log, 'a') as out:
    out.write(f"{figures['rchar']} {figures['read_bytes']}\n")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
