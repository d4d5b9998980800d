"""API process for ExaBGP: appends every JSON message ExaBGP sends to a file."""
import sys

with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
