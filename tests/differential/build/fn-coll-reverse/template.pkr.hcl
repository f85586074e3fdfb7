source "file" "out" {
  target  = "out.txt"
  content = <<EOT
reverse(["a", "b", "c"]) = [${jsonencode(reverse(["a", "b", "c"]))}]
reverse([]) = [${jsonencode(reverse([]))}]
reverse([1]) = [${jsonencode(reverse([1]))}]
reverse([1, "b", true]) = [${jsonencode(reverse([1, "b", true]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
