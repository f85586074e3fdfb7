# Reduced: the original amazon-ebs "builder" source is replaced by a null source.
source "null" "builder" {
  communicator = "none"
}
