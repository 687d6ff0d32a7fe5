// A test helper for the seqprov modules' nf-tests: a fresh Ed25519 key pair, so no
// private key is kept in the repository.
process SEQPROV_TEST_KEYGEN {
    label 'process_single'

    conda "${moduleDir}/../environment.yml"
    container "${workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container
        ? 'https://depot.galaxyproject.org/singularity/seqprov:0.1.0--hdfd78af_0'
        : 'quay.io/biocontainers/seqprov:0.1.0--hdfd78af_0'}"

    input:
    val name

    output:
    path "${name}.key", emit: key
    path "${name}.pub", emit: pub

    script:
    """
    seqprov keygen --out ${name} --name "${name} (nf-test)"
    """
}
