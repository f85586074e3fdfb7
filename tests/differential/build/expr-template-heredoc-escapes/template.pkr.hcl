source "file" "out" {
  content = <<EOT
lit=$${x} %%{ y } \n stays \t raw \u00e9
dollar=$ percent=% brace={}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
