source "file" "out" {
  target  = "out.txt"
  content = <<EOT
element(["a", "b"], -1) = [${element(["a", "b"], -1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
