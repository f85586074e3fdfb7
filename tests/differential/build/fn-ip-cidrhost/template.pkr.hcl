source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrhost("10.0.0.0/8", 2) = [${cidrhost("10.0.0.0/8", 2)}]
cidrhost("10.0.0.0/24", -1) = [${cidrhost("10.0.0.0/24", -1)}]
cidrhost("10.0.0.0/24", -256) = [${cidrhost("10.0.0.0/24", -256)}]
cidrhost("192.168.1.0/30", 0) = [${cidrhost("192.168.1.0/30", 0)}]
cidrhost("10.1.2.3/16", 5) = [${cidrhost("10.1.2.3/16", 5)}]
cidrhost("10.0.0.0/32", 0) = [${cidrhost("10.0.0.0/32", 0)}]
cidrhost("fd00::/64", 5) = [${cidrhost("fd00::/64", 5)}]
cidrhost("fd00:1::/120", 255) = [${cidrhost("fd00:1::/120", 255)}]
cidrhost("2001:db8::/32", 65536) = [${cidrhost("2001:db8::/32", 65536)}]
EOT
}

build {
  sources = ["source.file.out"]
}
