source "file" "out" {
  target  = "out.txt"
  content = <<EOT
join(",", []) = [${join(",", [])}]
join("", ["a", "b"]) = [${join("", ["a", "b"])}]
join(", ", ["a"]) = [${join(", ", ["a"])}]
join("-", ["", "", ""]) = [${join("-", ["", "", ""])}]
join("/", ["a", "b"], ["c"]) = [${join("/", ["a", "b"], ["c"])}]
join(",", [1, true, "x"]) = [${join(",", [1, true, "x"])}]
join("→", ["é", "ü"]) = [${join("→", ["é", "ü"])}]
EOT
}

build {
  sources = ["source.file.out"]
}
