#!/bin/bash -eux
