source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrsubnet("10.0.0.0/16", 8, 2) = [${cidrsubnet("10.0.0.0/16", 8, 2)}]
cidrsubnet("10.0.0.0/16", 0, 0) = [${cidrsubnet("10.0.0.0/16", 0, 0)}]
cidrsubnet("10.1.2.3/16", 8, 1) = [${cidrsubnet("10.1.2.3/16", 8, 1)}]
cidrsubnet("172.16.0.0/12", 4, 15) = [${cidrsubnet("172.16.0.0/12", 4, 15)}]
cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162) = [${cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)}]
cidrsubnet("2001:db8::/32", 32, 4294967295) = [${cidrsubnet("2001:db8::/32", 32, 4294967295)}]
cidrsubnet("10.0.0.0/8", 24, 1) = [${cidrsubnet("10.0.0.0/8", 24, 1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
