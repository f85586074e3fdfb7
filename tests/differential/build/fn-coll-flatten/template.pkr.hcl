source "file" "out" {
  target  = "out.txt"
  content = <<EOT
flatten([["a", ["b"]], [], ["c"]]) = [${jsonencode(flatten([["a", ["b"]], [], ["c"]]))}]
flatten([]) = [${jsonencode(flatten([]))}]
flatten([[[]]]) = [${jsonencode(flatten([[[]]]))}]
flatten([["a"], "b", [["c", ["d"]]]]) = [${jsonencode(flatten([["a"], "b", [["c", ["d"]]]]))}]
flatten([[1, 2], [3]]) = [${jsonencode(flatten([[1, 2], [3]]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
