source "file" "out" {
  target  = "out.txt"
  content = <<EOT
index(["a", "b", "c"], "b") = [${index(["a", "b", "c"], "b")}]
index([1, 2, 3], 3) = [${index([1, 2, 3], 3)}]
index(["a", "b", "a"], "a") = [${index(["a", "b", "a"], "a")}]
index([1.0, 2], 1) = [${index([1.0, 2], 1)}]
index([["x"], ["y"]], ["y"]) = [${index([["x"], ["y"]], ["y"])}]
EOT
}

build {
  sources = ["source.file.out"]
}
