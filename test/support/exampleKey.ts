/**
 * A made-up RSA service-account key for recording the example cassettes of sources whose auth
 * signs a JWT assertion: fixed, so the cassette test can grep the cassettes for it. It signs
 * nothing but assertions to local simulations.
 */

import { createPublicKey } from 'node:crypto';

/** The PKCS #8 PEM, as a key file holds it. */
export const EXAMPLE_PRIVATE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDA4HBJBECX60p8',
  'q1WLSNf5sJfmd4epsDBH/kmRZmycIwfWwytpq8AmDqmekIVySLvePh4OeFqMeo63',
  'xccSK47B/mgjghkMxqUwfmq8CG/YFNsoVgy8KRYU1GRtFEonVVKf3TDOkkjb12BZ',
  'vcFf1iwFT96VgSepvpCUwEZzsM+HfocNGTTt6XdZnM+PNG01hX7nZ1Wq25lLB5f8',
  'A9VAQUf00TSicsUmdbDjbtKxIIC2A+X1iYQy5CZsvd2OV7Sy0F37T3HaWFrV1/OC',
  'xdnga/7v/p767SG7YbYkXNLla1NHYoBMPzlqOGtEjVaYCl9wDzsBG4svni20xQvr',
  '6/F4q89FAgMBAAECggEAAQQ90Ji0jshsm6nF2TvV+D4uyBtvAYfeR/GGaZKGCzBL',
  'vofypDYwR1MSSvW9NPwT/L4hkkHJTQ5pTv0nHoilvOPZIH9zSoQH2LCrNy3+iZTv',
  'OcVzADvhiVRm6hnuW8o2la/zWFILjxhnF4SpRAF2ORnxv6J5tx/mwFifa8UtttZY',
  'yq/z720lXwWmVVCPAXwmIokNoEGx/6+AY7bq8K7Vw3liaL2kaojsqiww0HRh336c',
  'fVgoIpCJM9+olgtGiSqKa+fUPMnAQORK6fBPnkW0sscnQ0c8G2Kxx15debdV6NGl',
  'rFw0sqqWuvvOR8L8F2HXNKA982OON1Fea8PFdkosWQKBgQDg71Z0B/HgQppK/kiS',
  'ZF2W/9kYlfU9ZFwPm5vR5k0UkxazhTOiaFnmlZ4MHamltEXx+2OYO8JIkdGl2ICL',
  'p/vVqG0shfTCZKuUldvG52ExAeyLcWy+f3rouKh90kKD6cLXL8ob2Ye/OGrJAIlS',
  'ITstJ1zA40gPkmoo3a8YmJiSWQKBgQDbg6uwAOWFTTh7FMy8lWFBQoOOzx5fUw+H',
  'uO3rj3tvfkaqRyT0yNl/AcVr3V7F2iormFVenYN/jRVBwDIDeRQ0fe5U7h8CgPMz',
  'Vf0duCNYaRXQRKO9Ad6m1cPjX8KAkUabVT5p71fAMIwXs5gi1nHJ8CREzA3Hg++9',
  'WBXFATPOzQKBgQCwkZAG0zm+denSVpu3Nsv0vW+4ifaRs5dEtTzy3trA/NmEIFqw',
  '8UMo62e+UQabydBiLJk4pihTeQveKP53Im1gga75lUnV0tqRb7WvBHBZ3Q3HREk9',
  'nKppxpKU+hk2nahR7PS1OeQCahIBKMeize06+7wmugMWHjPxUluhbh/OOQKBgFnJ',
  'M5Jb64Vonm+JhGymVQ9SW2kwQmYPHU0QURCGsaBa8CB51R3igUO3v75s33Th1Vnb',
  'hx+aIc0sMcOhD1PoVGFcGP3YIArwH4mh5FQhmyNwaCG10ZtfhmiLCwKXioD36v9i',
  'EJNX+HZ95O9U4Cdvuz8z4EHbjM9MoeS6gL0BzuUJAoGBAMa2yAzhOidtwbOfplN8',
  'Nugn3y02mmrGYlrJSzH2RlMybFcYA367+iGTUyJDtYNKOg2iSj09R06Ri85sJOAZ',
  'pcOSOLatTpe43DDeLaQKMonUwTpfboGZcgmuVJ0HbsOt2uDiWng797A5Ga/Jun1Y',
  'uO6mcEC3CQaFX+lBJX1gOGKD',
  '-----END PRIVATE KEY-----',
].join('\n');

/** Its public half, which the simulations verify assertions with. */
export const EXAMPLE_PUBLIC_KEY = createPublicKey(EXAMPLE_PRIVATE_KEY);
