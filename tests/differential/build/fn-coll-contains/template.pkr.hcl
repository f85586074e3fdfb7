source "file" "out" {
  target  = "out.txt"
  content = <<EOT
contains(["a", "b"], "a") = [${contains(["a", "b"], "a")}]
contains(["a", "b"], "c") = [${contains(["a", "b"], "c")}]
contains([], "a") = [${contains([], "a")}]
contains([1, 2], 2) = [${contains([1, 2], 2)}]
contains([1, 2], 2.0) = [${contains([1, 2], 2.0)}]
contains(["a", "B"], "b") = [${contains(["a", "B"], "b")}]
contains([[1], [2]], [2]) = [${contains([[1], [2]], [2])}]
EOT
}

build {
  sources = ["source.file.out"]
}
