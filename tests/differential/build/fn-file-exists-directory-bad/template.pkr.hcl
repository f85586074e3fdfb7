source "file" "out" {
  target  = "out.txt"
  content = <<EOT
fileexists("data") = [${fileexists("data")}]
EOT
}

build {
  sources = ["source.file.out"]
}
