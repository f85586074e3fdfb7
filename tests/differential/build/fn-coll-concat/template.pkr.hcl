source "file" "out" {
  target  = "out.txt"
  content = <<EOT
concat([], []) = [${jsonencode(concat([], []))}]
concat(["a"], ["b", "c"], []) = [${jsonencode(concat(["a"], ["b", "c"], []))}]
concat([1], ["a"], [true]) = [${jsonencode(concat([1], ["a"], [true]))}]
concat([["x"]], [[]]) = [${jsonencode(concat([["x"]], [[]]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
