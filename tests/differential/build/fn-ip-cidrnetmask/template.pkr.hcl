source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrnetmask("10.0.0.0/8") = [${cidrnetmask("10.0.0.0/8")}]
cidrnetmask("0.0.0.0/0") = [${cidrnetmask("0.0.0.0/0")}]
cidrnetmask("1.2.3.4/32") = [${cidrnetmask("1.2.3.4/32")}]
cidrnetmask("172.16.0.0/12") = [${cidrnetmask("172.16.0.0/12")}]
cidrnetmask("10.0.0.0/23") = [${cidrnetmask("10.0.0.0/23")}]
cidrnetmask("fd00::/64") = [${cidrnetmask("fd00::/64")}]
EOT
}

build {
  sources = ["source.file.out"]
}
