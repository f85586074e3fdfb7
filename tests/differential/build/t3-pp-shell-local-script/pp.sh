#!/bin/sh
echo "script $PACKER_BUILD_NAME $EXTRA" > pp.txt
