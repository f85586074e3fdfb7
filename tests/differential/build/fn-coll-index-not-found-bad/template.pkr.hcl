source "file" "out" {
  target  = "out.txt"
  content = <<EOT
index(["a"], "z") = [${index(["a"], "z")}]
EOT
}

build {
  sources = ["source.file.out"]
}
