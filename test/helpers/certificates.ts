// Certificates for the TLS tests, made with openssl: new unencrypted P-256 keys, valid for two days.
import { execa } from 'execa';

/** `openssl req` arguments that make a new unencrypted P-256 key. */
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface NewCertificate {
  /** e.g. "/CN=smarthost.test" */
  subject: string;
  /** Where the new key is written. */
  keyFile: string;
  /** Where the certificate (or, for a request, the CSR) is written. */
  outFile: string;
}

/** A self-signed certificate and its key; `extensions` are `-addext` values such as "subjectAltName=…". */
export async function selfSignedCertificate(certificate: NewCertificate, extensions: string[] = []): Promise<void> {
  await execa('openssl', [
    'req',
    '-x509',
    ...newKey,
    '-days',
    '2',
    '-subj',
    certificate.subject,
    ...extensions.flatMap((extension) => ['-addext', extension]),
    '-keyout',
    certificate.keyFile,
    '-out',
    certificate.outFile,
  ]);
}

/** A certificate signing request and its key, for a CA to sign. */
export async function certificateRequest(request: NewCertificate): Promise<void> {
  await execa('openssl', [
    'req',
    ...newKey,
    '-subj',
    request.subject,
    '-keyout',
    request.keyFile,
    '-out',
    request.outFile,
  ]);
}
