/* Crypto for the DH UAMs, on libgcrypt: MPI arithmetic for Diffie-Hellman,
 * CAST5-CBC, MD5, and random numbers. */
#include "afp_uam.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <gcrypt.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_gcrypt(void)
{
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        /* The application did not set libgcrypt up: do the minimum.  Keys
         * live in ordinary memory and are wiped by hand. */
        if (!gcry_check_version("1.8.0")) {
            init_rc = -ENOTSUP;
            return;
        }
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
    init_rc = 0;
}

int afp_crypto_init(void)
{
    pthread_once(&init_once, init_gcrypt);
    return init_rc;
}

void afp_uam_random(struct afp_login *l, enum afp_random_purpose purpose, uint8_t *buf, size_t len)
{
    if (l->random)
        l->random(l->random_arg, purpose, buf, len);
    else
        gcry_randomize(buf, len, GCRY_STRONG_RANDOM);
}

static gcry_mpi_t mpi_from(const uint8_t *p, size_t n)
{
    gcry_mpi_t m = NULL;
    if (gcry_mpi_scan(&m, GCRYMPI_FMT_USG, p, n, NULL))
        return NULL;
    return m;
}

/* Writes m as exactly len big-endian bytes (left-padded with zeros). */
static int mpi_to(gcry_mpi_t m, uint8_t *out, size_t len)
{
    size_t n = 0;
    if (gcry_mpi_print(GCRYMPI_FMT_USG, NULL, 0, &n, m))
        return -EIO;
    if (n > len)
        return -EPROTO;
    memset(out, 0, len - n);
    if (n && gcry_mpi_print(GCRYMPI_FMT_USG, out + (len - n), n, NULL, m))
        return -EIO;
    return 0;
}

static int check_range(gcry_mpi_t p, gcry_mpi_t x)
{
    gcry_mpi_t pm1 = gcry_mpi_new(0);
    int rc = 0;
    gcry_mpi_sub_ui(pm1, p, 1);
    if (gcry_mpi_cmp_ui(x, 1) <= 0 || gcry_mpi_cmp(x, pm1) >= 0)
        rc = -EPROTO;
    gcry_mpi_release(pm1);
    return rc;
}

int afp_dh_check_range(const uint8_t *p, size_t plen, const uint8_t *x, size_t xlen)
{
    int rc = afp_crypto_init();
    if (rc)
        return rc;
    gcry_mpi_t mp = mpi_from(p, plen), mx = mpi_from(x, xlen);
    rc = (mp && mx) ? check_range(mp, mx) : -ENOMEM;
    gcry_mpi_release(mp);
    gcry_mpi_release(mx);
    return rc;
}

static int powm(const uint8_t *base, size_t blen, const uint8_t *exp, size_t elen,
                const uint8_t *p, size_t plen, bool check_base, uint8_t *out)
{
    int rc = afp_crypto_init();
    if (rc)
        return rc;
    gcry_mpi_t mb = mpi_from(base, blen), me = mpi_from(exp, elen), mp = mpi_from(p, plen);
    gcry_mpi_t r = gcry_mpi_new(0);
    if (!mb || !me || !mp || !r)
        rc = -ENOMEM;
    else if (gcry_mpi_cmp_ui(mp, 3) <= 0 || !gcry_mpi_test_bit(mp, 0))
        rc = -EPROTO;       /* a modulus that is not an odd number > 3 */
    else if (check_base && (rc = check_range(mp, mb)))
        ;
    else {
        gcry_mpi_powm(r, mb, me, mp);
        rc = mpi_to(r, out, plen);
    }
    gcry_mpi_release(mb);
    gcry_mpi_release(me);   /* libgcrypt wipes limbs on release */
    gcry_mpi_release(mp);
    gcry_mpi_release(r);
    return rc;
}

int afp_dh_public(const uint8_t *p, size_t plen, const uint8_t *g, size_t glen,
                  const uint8_t *priv, size_t privlen, uint8_t *pub)
{
    return powm(g, glen, priv, privlen, p, plen, true, pub);
}

int afp_dh_shared(const uint8_t *p, size_t plen, const uint8_t *peer, size_t peerlen,
                  const uint8_t *priv, size_t privlen, uint8_t *shared)
{
    return powm(peer, peerlen, priv, privlen, p, plen, true, shared);
}

int afp_cast5_cbc(bool encrypt, const uint8_t key[16], const char iv[8], uint8_t *buf, size_t len)
{
    gcry_cipher_hd_t h;
    int rc = afp_crypto_init();
    if (rc)
        return rc;
    if (len % 8)
        return -EINVAL;
    if (gcry_cipher_open(&h, GCRY_CIPHER_CAST5, GCRY_CIPHER_MODE_CBC, 0))
        return -ENOTSUP;
    if (gcry_cipher_setkey(h, key, 16) || gcry_cipher_setiv(h, iv, 8))
        rc = -EIO;
    else if (encrypt ? gcry_cipher_encrypt(h, buf, len, NULL, 0)
                     : gcry_cipher_decrypt(h, buf, len, NULL, 0))
        rc = -EIO;
    gcry_cipher_close(h);
    return rc;
}

int afp_md5(const void *in, size_t len, uint8_t out[16])
{
    int rc = afp_crypto_init();
    if (rc)
        return rc;
    if (gcry_md_test_algo(GCRY_MD_MD5))
        return -ENOTSUP;    /* e.g. FIPS mode */
    gcry_md_hash_buffer(GCRY_MD_MD5, out, in, len);
    return 0;
}

void afp_nonce_increment(uint8_t nonce[16])
{
    for (int i = 15; i >= 0; i--)
        if (++nonce[i] != 0)
            break;
}
