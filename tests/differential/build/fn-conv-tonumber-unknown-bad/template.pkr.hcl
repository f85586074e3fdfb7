source "file" "out" {
  target  = "out.txt"
  content = <<EOT
tonumber("1") = [${tonumber("1")}]
EOT
}

build {
  sources = ["source.file.out"]
}
