source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrsubnets("10.0.0.0/24", 1, 1, 1) = [${jsonencode(cidrsubnets("10.0.0.0/24", 1, 1, 1))}]
EOT
}

build {
  sources = ["source.file.out"]
}
