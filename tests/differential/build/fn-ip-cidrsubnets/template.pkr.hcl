source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrsubnets("10.1.0.0/16", 4, 4, 8, 4) = [${jsonencode(cidrsubnets("10.1.0.0/16", 4, 4, 8, 4))}]
cidrsubnets("fd00::/56", 16, 16) = [${jsonencode(cidrsubnets("fd00::/56", 16, 16))}]
cidrsubnets("10.0.0.0/8") = [${jsonencode(cidrsubnets("10.0.0.0/8"))}]
cidrsubnets("10.0.0.0/24", 1, 1) = [${jsonencode(cidrsubnets("10.0.0.0/24", 1, 1))}]
cidrsubnets("10.0.0.0/24", 2, 1) = [${jsonencode(cidrsubnets("10.0.0.0/24", 2, 1))}]
EOT
}

build {
  sources = ["source.file.out"]
}
