this is not a packer file { and would not parse
