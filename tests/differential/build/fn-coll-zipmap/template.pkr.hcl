source "file" "out" {
  target  = "out.txt"
  content = <<EOT
zipmap(["a", "b"], [1, 2]) = [${jsonencode(zipmap(["a", "b"], [1, 2]))}]
zipmap([], []) = [${jsonencode(zipmap([], []))}]
zipmap(["a", "a"], [1, 2]) = [${jsonencode(zipmap(["a", "a"], [1, 2]))}]
zipmap(["b", "a"], [["x"], ["y"]]) = [${jsonencode(zipmap(["b", "a"], [["x"], ["y"]]))}]
zipmap(["k"], [null]) = [${jsonencode(zipmap(["k"], [null]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
