#!/bin/sh
echo "two ${WHO:-none}" >> out.txt
