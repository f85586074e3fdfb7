#!/bin/sh
echo "s2 $WHO $PACKER_BUILD_NAME" >> scripts.txt
