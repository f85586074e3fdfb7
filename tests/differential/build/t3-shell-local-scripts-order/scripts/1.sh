#!/bin/sh
echo "one ${WHO:-none} $PACKER_BUILD_NAME" >> out.txt
