source "file" "out" {
  target  = "out.txt"
  content = <<EOT
cidrhost("10.0.0.0/30", 4) = [${cidrhost("10.0.0.0/30", 4)}]
EOT
}

build {
  sources = ["source.file.out"]
}
