#!/bin/sh
echo "bare $PACKER_BUILD_NAME $1" > out.txt
