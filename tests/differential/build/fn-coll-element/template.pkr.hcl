source "file" "out" {
  target  = "out.txt"
  content = <<EOT
element(["a", "b", "c"], 0) = [${element(["a", "b", "c"], 0)}]
element(["a", "b", "c"], 2) = [${element(["a", "b", "c"], 2)}]
element(["a", "b", "c"], 3) = [${element(["a", "b", "c"], 3)}]
element(["a", "b", "c"], 100) = [${element(["a", "b", "c"], 100)}]
element(["x"], 5) = [${element(["x"], 5)}]
element([1, "two", true], 1) = [${element([1, "two", true], 1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
