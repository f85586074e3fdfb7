#!/bin/sh
echo "s1 $WHO $BN $BT" >> scripts.txt
