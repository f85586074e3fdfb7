#!/usr/bin/env python3
"""Copies a case to DEST with every `required_plugins { ... }` block and `required_version = ...` line removed from its *.pkr.hcl
files (Packer 1.6.6 does not know that block; nothing else is changed), so that 1.6.6 can judge
the rest of the template.   strip-required-plugins.py CASE_DIR DEST_DIR"""
import os, re, shutil, sys

def strip(text):
    out, i = [], 0
    for m in re.finditer(r'(?m)^[ \t]*required_plugins[ \t]*\{', text):
        if m.start() < i:
            continue
        depth, j, s = 0, m.end() - 1, None
        while j < len(text):
            ch = text[j]
            if s:
                if ch == '\\': j += 1
                elif ch == s: s = None
            elif ch == '"': s = '"'
            elif ch == '#' or text.startswith('//', j):
                j = text.find('\n', j); j = len(text) if j < 0 else j; continue
            elif ch == '{': depth += 1
            elif ch == '}':
                depth -= 1
                if depth == 0: break
            j += 1
        out.append(text[i:m.start()]); i = j + 1
    out.append(text[i:])
    return re.sub(r'(?m)^[ \t]*required_version[ \t]*=.*$', '', ''.join(out))

src, dst = sys.argv[1], sys.argv[2]
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns('out'))
n = 0
for root, _, files in os.walk(dst):
    for f in files:
        if f.endswith('.pkr.hcl'):
            p = os.path.join(root, f)
            t = open(p, encoding='utf-8').read()
            s = strip(t)
            if s != t:
                open(p, 'w', encoding='utf-8').write(s); n += 1
print(n)
