# Reduced: the original packer { required_plugins { ansible = ... } } block is left out
# (Packer 1.6.6 predates required_plugins: "Blocks of type \"required_plugins\" are not
# expected here"; Kiln accepts it).

build {
    sources = [
        "source.null.qemu"
    ]

    provisioner "ansible" {
        playbook_file = "${local.project_directory}/ansible/rocky_cis.yml"
        use_proxy = false
        timeout = "15m"

        ansible_env_vars = [
            "ANSIBLE_HOST_KEY_CHECKING=False",
            "ANSIBLE_NOCOLOR=True"
        ]

        ansible_ssh_extra_args = [
            "-o IdentitiesOnly=yes",
            "-o StrictHostKeyChecking=no",
            "-o UserKnownHostsFile=/dev/null"
        ]

        extra_arguments = [
            "-e",
            "ansible_password=${build.Password} machine_type=server",
            "--scp-extra-args",
            "'-O'"
        ]
    }
}
