#!/usr/bin/env python3
"""Prints one line per case from CASE/out/*: exit codes of kiln and packer for validate,
validate -syntax-only and inspect (and of the stripped runs), and whether inspect outputs agree."""
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
def rc(c, f):
    p = os.path.join(here, c, 'out', f)
    if not os.path.exists(p): return '-'
    return open(p, errors='replace').readline().split()[1]
def body(c, f):
    p = os.path.join(here, c, 'out', f)
    return open(p, errors='replace').read().split('\n', 1)[1] if os.path.exists(p) else None
cases = sorted(d for d in os.listdir(here) if os.path.isfile(os.path.join(here, d, 'SOURCE')))
print(f"{'case':62} {'k.val':5} {'p.val':5} {'k.syn':5} {'p.syn':5} {'k.ins':5} {'p.ins':5} {'sk.v':4} {'sp.v':4} inspect")
for c in cases:
    ki, pi = body(c, 'kiln.inspect'), body(c, 'packer.inspect')
    same = '-' if ki is None or pi is None else ('same' if ki == pi else 'DIFF')
    print(f"{c:62} {rc(c,'kiln.validate'):5} {rc(c,'packer.validate'):5} {rc(c,'kiln.syntax'):5} {rc(c,'packer.syntax'):5} {rc(c,'kiln.inspect'):5} {rc(c,'packer.inspect'):5} {rc(c,'stripped-kiln.validate'):4} {rc(c,'stripped-packer.validate'):4} {same}")
